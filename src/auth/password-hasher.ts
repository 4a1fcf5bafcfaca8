import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as argon2 from 'argon2';
import type { AppConfig } from '../config';

/** argon2id hashing, with parameters from config (see ARGON2_* in .env.example). */
@Injectable()
export class PasswordHasher {
  private readonly options: argon2.HashOptions & { raw?: false };
  /** A real hash of a random password, verified against when the user does not exist, so both paths cost the same. */
  private readonly decoy: Promise<string>;

  constructor(config: ConfigService<AppConfig, true>) {
    const { memoryCost, timeCost, parallelism } = config.get('auth', { infer: true }).argon2;
    this.options = { type: argon2.argon2id, memoryCost, timeCost, parallelism };
    this.decoy = argon2.hash(crypto.randomUUID(), this.options);
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.options);
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (!hash) {
      await argon2.verify(await this.decoy, password);
      return false;
    }
    return argon2.verify(hash, password);
  }
}
