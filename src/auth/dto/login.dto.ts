import { IsString, Length } from 'class-validator';

export class LoginDto {
  /**
   * Username or email.
   * @example "alice_01"
   */
  @IsString()
  @Length(1, 254)
  login!: string;

  /** @example "correct horse battery staple" */
  @IsString()
  @Length(1, 128)
  password!: string;
}
