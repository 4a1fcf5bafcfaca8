import type { IncomingMessage } from 'node:http';
import { watchThroughput } from './throughput-watch';

/** A request whose socket byte count and buffer the test moves by hand. */
function fakeRequest() {
  return { socket: { bytesRead: 0 }, complete: false, destroyed: false, readableLength: 0 };
}

describe('watchThroughput', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const rule = { minBytesPerSecond: 100, windowMs: 4000 };

  it('calls onTooSlow once when a whole window brought fewer bytes than the minimum', () => {
    const req = fakeRequest();
    const onTooSlow = jest.fn();
    watchThroughput(req as unknown as IncomingMessage, rule, onTooSlow);
    req.socket.bytesRead += 399;
    jest.advanceTimersByTime(4000);
    expect(onTooSlow).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(20_000);
    expect(onTooSlow).toHaveBeenCalledTimes(1);
  });

  it('leaves a client at the minimum pace alone', () => {
    const req = fakeRequest();
    const onTooSlow = jest.fn();
    const stop = watchThroughput(req as unknown as IncomingMessage, rule, onTooSlow);
    for (let second = 0; second < 20; second++) {
      req.socket.bytesRead += 100;
      jest.advanceTimersByTime(1000);
    }
    expect(onTooSlow).not.toHaveBeenCalled();
    stop();
  });

  it('does not blame the client while the server holds unread bytes', () => {
    const req = fakeRequest();
    const onTooSlow = jest.fn();
    const stop = watchThroughput(req as unknown as IncomingMessage, rule, onTooSlow);
    req.readableLength = 16 * 1024; // the handler is not reading (a lock, a slow disk)
    jest.advanceTimersByTime(30_000);
    expect(onTooSlow).not.toHaveBeenCalled();
    stop();
  });

  it('stops watching once the body is complete, and is off at 0 bytes/s', () => {
    const req = fakeRequest();
    const onTooSlow = jest.fn();
    watchThroughput(req as unknown as IncomingMessage, rule, onTooSlow);
    req.complete = true;
    jest.advanceTimersByTime(30_000);
    watchThroughput(
      fakeRequest() as unknown as IncomingMessage,
      { ...rule, minBytesPerSecond: 0 },
      onTooSlow,
    );
    jest.advanceTimersByTime(30_000);
    expect(onTooSlow).not.toHaveBeenCalled();
  });
});
