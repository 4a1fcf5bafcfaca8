import { UserProfileDto } from './user-profile.dto';

export class AuthResponseDto {
  /** @example true */
  success!: boolean;
  user!: UserProfileDto;
  /** HS256 JWT; send it as `Authorization: Bearer <token>`. */
  accessToken!: string;
  /** @example "Bearer" */
  tokenType!: string;
  /** Seconds until the token expires. @example 3600 */
  expiresIn!: number;
}
