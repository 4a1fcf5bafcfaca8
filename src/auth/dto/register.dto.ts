import { IsEmail, IsString, Length, Matches, MaxLength } from 'class-validator';

export class RegisterDto {
  /**
   * 3-32 letters, digits, `_`, `.` or `-`; unique, compared case-insensitively.
   * @example "alice_01"
   */
  @IsString()
  @Matches(/^[a-zA-Z0-9_.-]{3,32}$/, {
    message: 'username must be 3-32 characters of letters, digits, _ . or -',
  })
  username!: string;

  /**
   * Unique, compared case-insensitively.
   * @example "alice@example.com"
   */
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address' })
  email!: string;

  /**
   * 8-128 characters.
   * @example "correct horse battery staple"
   */
  @IsString()
  @Length(8, 128, { message: 'password must be 8-128 characters' })
  password!: string;
}
