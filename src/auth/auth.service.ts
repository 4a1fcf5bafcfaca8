import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import type { AppConfig } from '../config';
import { AuthResponseDto } from './dto/auth-response.dto';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';
import type { JwtPayload } from './jwt.strategy';
import { LoginThrottle } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { UserProfile, UsersService } from './users.service';

@Injectable()
export class AuthService {
  private readonly expiresIn: number;

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly loginThrottle: LoginThrottle,
    config: ConfigService<AppConfig, true>,
  ) {
    this.expiresIn = config.get('auth', { infer: true }).jwtExpiresInSeconds;
  }

  async register(dto: RegisterDto): Promise<AuthResponseDto> {
    const user = await this.users.create({
      username: dto.username,
      email: dto.email,
      passwordHash: await this.hasher.hash(dto.password),
    });
    return this.issueToken(user);
  }

  /**
   * Unknown user and wrong password get the same answer, after the same amount of hashing work, and the same
   * per-account throttling (an unknown name is throttled under the name itself).
   */
  async login(dto: LoginDto, clientAddress: string): Promise<AuthResponseDto> {
    const user = await this.users.findForLogin(dto.login);
    const account = user ? String(user._id) : `login:${dto.login.trim().toLowerCase()}`;
    const retryAfter = this.loginThrottle.secondsToWait(account, clientAddress);
    if (retryAfter > 0) {
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        ErrorCode.TOO_MANY_REQUESTS,
        `Too many failed logins for this account; retry in ${retryAfter} s`,
        { retryAfter },
      );
    }
    const valid = await this.hasher.verify(user?.passwordHash, dto.password);
    if (!user || !valid) {
      this.loginThrottle.failed(account, clientAddress);
      throw new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_CREDENTIALS, 'Invalid login or password');
    }
    this.loginThrottle.succeeded(account, clientAddress);
    return this.issueToken({
      id: String(user._id),
      username: user.username,
      email: user.email,
      createdAt: user.createdAt,
    });
  }

  async profile(userId: string): Promise<UserProfile> {
    const user = await this.users.findProfile(userId);
    if (!user)
      throw new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_INVALID, 'The access token is invalid');
    return user;
  }

  private async issueToken(user: UserProfile): Promise<AuthResponseDto> {
    const payload: JwtPayload = { sub: user.id, username: user.username };
    const accessToken = await this.jwt.signAsync(payload);
    return { success: true, user, accessToken, tokenType: 'Bearer', expiresIn: this.expiresIn };
  }
}
