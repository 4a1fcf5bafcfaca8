import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import type { AppConfig } from '../config';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtStrategy } from './jwt.strategy';
import { LoginThrottle } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { User, UserSchema } from './schemas/user.schema';
import { UsersService } from './users.service';

@Module({
  imports: [
    PassportModule,
    MongooseModule.forFeature([{ name: User.name, schema: UserSchema }]),
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const auth = config.get('auth', { infer: true });
        return {
          secret: auth.jwtSecret,
          signOptions: {
            algorithm: 'HS256',
            expiresIn: auth.jwtExpiresInSeconds,
            issuer: auth.jwtIssuer,
            audience: auth.jwtAudience,
          },
          verifyOptions: { algorithms: ['HS256'], issuer: auth.jwtIssuer, audience: auth.jwtAudience },
        };
      },
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, UsersService, PasswordHasher, JwtStrategy, LoginThrottle],
  exports: [UsersService, JwtModule],
})
export class AuthModule {}
