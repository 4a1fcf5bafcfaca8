import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isValidObjectId, Model } from 'mongoose';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import { User } from './schemas/user.schema';

export interface UserProfile {
  id: string;
  username: string;
  email: string;
  createdAt: Date;
}

interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
}

const DUPLICATE_KEY = 11000;

/** The users collection. Nothing outside AuthModule touches it directly. */
@Injectable()
export class UsersService {
  constructor(@InjectModel(User.name) private readonly users: Model<User>) {}

  async create(user: NewUser): Promise<UserProfile> {
    const username = user.username.toLowerCase();
    const email = user.email.toLowerCase();
    await this.assertAvailable(username, email);
    try {
      const created = await this.users.create({ ...user, username, email });
      return toProfile(created);
    } catch (error) {
      // Two registrations racing past the check above: the unique index decides.
      if ((error as { code?: number }).code === DUPLICATE_KEY) {
        throw new ApiError(
          HttpStatus.CONFLICT,
          ErrorCode.CONFLICT,
          'Username or email is already registered',
        );
      }
      throw error;
    }
  }

  /** The user with this username or email, with the password hash, for login only. */
  findForLogin(login: string) {
    const key = login.trim().toLowerCase();
    const field = key.includes('@') ? 'email' : 'username';
    return this.users
      .findOne({ [field]: key })
      .select('+passwordHash')
      .lean()
      .exec();
  }

  async findProfile(userId: string): Promise<UserProfile | null> {
    if (!isValidObjectId(userId)) return null;
    const user = await this.users.findById(userId).lean().exec();
    return user ? toProfile(user) : null;
  }

  private async assertAvailable(username: string, email: string): Promise<void> {
    const [byName, byEmail] = await Promise.all([
      this.users.exists({ username }).exec(),
      this.users.exists({ email }).exec(),
    ]);
    if (byName)
      throw new ApiError(HttpStatus.CONFLICT, ErrorCode.USERNAME_TAKEN, 'Username is already registered');
    if (byEmail)
      throw new ApiError(HttpStatus.CONFLICT, ErrorCode.EMAIL_TAKEN, 'Email is already registered');
  }
}

function toProfile(user: { _id: unknown; username: string; email: string; createdAt: Date }): UserProfile {
  return { id: String(user._id), username: user.username, email: user.email, createdAt: user.createdAt };
}
