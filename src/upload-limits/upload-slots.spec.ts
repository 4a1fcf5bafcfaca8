import type { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { UploadSlots } from './upload-slots';

const config = (limit: number) =>
  ({ get: () => ({ maxConcurrentPerUser: limit }) }) as unknown as ConfigService<AppConfig, true>;

describe('UploadSlots', () => {
  it('gives each user up to the limit, and a slot back only once however often it is released', () => {
    const slots = new UploadSlots(config(2));
    const first = slots.acquire('alice');
    const second = slots.acquire('alice');
    expect(first && second).toBeTruthy();
    expect(slots.acquire('alice')).toBeNull();
    expect(slots.acquire('bob')).not.toBeNull();
    first?.();
    first?.();
    first?.();
    expect(slots.inFlight('alice')).toBe(1);
    expect(slots.acquire('alice')).not.toBeNull();
    expect(slots.acquire('alice')).toBeNull();
  });
});
