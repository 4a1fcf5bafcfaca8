import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ControlBus, ControlHandler, ControlMessage, deliver, Unsubscribe } from './control-bus';
import { connectRedis, quit, REDIS_PREFIX } from './redis-connection';

/**
 * ControlBus on Redis pub/sub. Publishing goes through the shared command connection; subscriptions live on a
 * dedicated connection (a subscribed connection can run nothing else), one Redis SUBSCRIBE per channel however
 * many local handlers it has. ioredis re-subscribes after a reconnect; messages sent meanwhile are lost.
 */
export class RedisControlBus extends ControlBus implements OnApplicationShutdown {
  private readonly channels = new Map<
    string,
    { handlers: Set<ControlHandler>; subscribed: Promise<unknown> }
  >();
  private readonly logger = new Logger(RedisControlBus.name);

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
  ) {
    super();
    subscriber.on('message', (channel: string, payload: string) => this.dispatch(channel, payload));
  }

  /** Opens the subscriber connection next to `publisher`. */
  static async connect(publisher: Redis, url: string): Promise<RedisControlBus> {
    return new RedisControlBus(publisher, await connectRedis(url, 'media-upload-subscriber'));
  }

  async publish(channel: string, message: ControlMessage): Promise<void> {
    await this.publisher.publish(REDIS_PREFIX + channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: ControlHandler): Promise<Unsubscribe> {
    const name = REDIS_PREFIX + channel;
    let entry = this.channels.get(name);
    if (!entry) {
      // Commands on one connection run in order, so a SUBSCRIBE after a pending UNSUBSCRIBE wins.
      entry = { handlers: new Set(), subscribed: this.subscriber.subscribe(name) };
      this.channels.set(name, entry);
    }
    const { handlers } = entry;
    handlers.add(handler);
    const unsubscribe = async () => {
      if (!handlers.delete(handler) || handlers.size > 0) return;
      if (this.channels.get(name)?.handlers === handlers) this.channels.delete(name);
      if (this.subscriber.status === 'ready') await this.subscriber.unsubscribe(name);
    };
    try {
      await entry.subscribed;
    } catch (error) {
      await unsubscribe().catch(() => undefined);
      throw error;
    }
    return unsubscribe;
  }

  async onApplicationShutdown(): Promise<void> {
    this.channels.clear();
    await quit(this.subscriber);
  }

  private dispatch(channel: string, payload: string): void {
    const handlers = this.channels.get(channel)?.handlers;
    if (!handlers) return;
    let message: ControlMessage;
    try {
      message = JSON.parse(payload) as ControlMessage;
    } catch {
      return this.logger.warn(`Ignored a message on ${channel} that is not JSON`);
    }
    for (const handler of [...handlers]) {
      deliver(this.logger, channel, handler, structuredClone(message));
    }
  }
}
