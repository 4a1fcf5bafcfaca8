import { Body, Controller, Get, HttpCode, HttpStatus, Ip, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { AuthUser, CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { RateLimit } from '../rate-limit';
import { AuthService } from './auth.service';
import { AuthResponseDto } from './dto/auth-response.dto';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';
import { MeResponseDto } from './dto/user-profile.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Creates an account and returns an access token. */
  @Public()
  @RateLimit('auth')
  @Post('register')
  @ApiErrorResponses(400, 409)
  register(@Body() dto: RegisterDto): Promise<AuthResponseDto> {
    return this.auth.register(dto);
  }

  /** Exchanges a username or email and a password for an access token. */
  @Public()
  @RateLimit('auth')
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiErrorResponses(400, 401)
  login(@Body() dto: LoginDto, @Ip() clientAddress: string): Promise<AuthResponseDto> {
    return this.auth.login(dto, clientAddress);
  }

  /** The caller's profile. */
  @Get('me')
  @ApiBearerAuth()
  @ApiErrorResponses(401)
  async me(@CurrentUser() caller: AuthUser): Promise<MeResponseDto> {
    return { success: true, user: await this.auth.profile(caller.userId) };
  }
}
