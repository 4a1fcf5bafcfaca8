export class UserProfileDto {
  /** @example "6650f1a2c3d4e5f6a7b8c9d0" */
  id!: string;
  /** Lower-cased. @example "alice_01" */
  username!: string;
  /** Lower-cased. @example "alice@example.com" */
  email!: string;
  createdAt!: Date;
}

export class MeResponseDto {
  /** @example true */
  success!: boolean;
  user!: UserProfileDto;
}
