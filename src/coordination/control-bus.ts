import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/** A JSON-serialisable message; handlers get their own copy. */
export type ControlMessage = Record<string, unknown>;
export type ControlHandler = (message: ControlMessage) => void;
/** Stops one subscription. */
export type Unsubscribe = () => Promise<void>;

/**
 * Fire-and-forget messages between instances (cancel an upload wherever it streams, live progress, tus release
 * requests): every subscriber of a channel, on any instance, gets each message published after its subscription
 * was confirmed. No persistence and no replay: a message nobody listens to is gone.
 * Abstract class so it is its own Nest injection token.
 */
export abstract class ControlBus {
  abstract publish(channel: string, message: ControlMessage): Promise<void>;
  /** Resolves once the subscription is active: messages published after that reach `handler`. */
  abstract subscribe(channel: string, handler: ControlHandler): Promise<Unsubscribe>;
}

/** Runs a handler without letting its failure reach the publisher or the other handlers. */
export function deliver(logger: Logger, channel: string, handler: ControlHandler, message: ControlMessage) {
  try {
    handler(message);
  } catch (error) {
    logger.error(`A handler on ${channel} failed: ${(error as Error).message}`);
  }
}

/** ControlBus for a single instance: an EventEmitter, delivering asynchronously as Redis would. */
export class InProcessControlBus extends ControlBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private readonly logger = new Logger(InProcessControlBus.name);

  publish(channel: string, message: ControlMessage): Promise<void> {
    const payload = JSON.stringify(message);
    setImmediate(() => this.emitter.emit(channel, payload));
    return Promise.resolve();
  }

  subscribe(channel: string, handler: ControlHandler): Promise<Unsubscribe> {
    const listener = (payload: string) =>
      deliver(this.logger, channel, handler, JSON.parse(payload) as ControlMessage);
    this.emitter.on(channel, listener);
    return Promise.resolve(() => {
      this.emitter.off(channel, listener);
      return Promise.resolve();
    });
  }
}
