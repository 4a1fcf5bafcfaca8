import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { BackoffPolicy, ExpiringMap, FailureRecord, secondsToWait } from './login-backoff';

/** Failures are forgotten a day after the last one. */
const FAILURE_MEMORY_MS = 24 * 3600 * 1000;
/** An address an account logged in from is "known" for 30 days. */
const KNOWN_ADDRESS_MS = 30 * 24 * 3600 * 1000;
const MAX_ENTRIES = 100_000;

/**
 * Per-account login throttling (docs/security.md): growing delays per (account, address), so one address cannot
 * guess on; and a slower account-wide budget against guesses spread over many addresses. The account-wide delay
 * has a small cap and does not apply to addresses the account logged in from before, so an attacker can slow the
 * owner down but not lock them out. Only checked passwords count: refused tries extend nothing.
 */
@Injectable()
export class LoginThrottle {
  private readonly perAddress: BackoffPolicy;
  private readonly perAccount: BackoffPolicy;
  private readonly failures = new ExpiringMap<FailureRecord>(MAX_ENTRIES);
  private readonly known = new ExpiringMap<true>(MAX_ENTRIES);

  constructor(config: ConfigService<AppConfig, true>) {
    const backoff = config.get('auth', { infer: true }).loginBackoff;
    this.perAddress = { freeFailures: backoff.freeFailures, maxDelaySeconds: backoff.maxDelaySeconds };
    this.perAccount = {
      freeFailures: backoff.accountFreeFailures,
      maxDelaySeconds: backoff.accountMaxDelaySeconds,
    };
  }

  /** Seconds this address must wait before trying this account again; 0 when it may try now. */
  secondsToWait(account: string, address: string): number {
    const now = Date.now();
    const own = secondsToWait(this.failures.get(pairKey(account, address)), this.perAddress, now);
    if (this.known.get(pairKey(account, address))) return own;
    return Math.max(own, secondsToWait(this.failures.get(accountKey(account)), this.perAccount, now));
  }

  failed(account: string, address: string): void {
    this.count(pairKey(account, address));
    this.count(accountKey(account));
  }

  /** The address is now known for the account; its own failures are cleared, the account-wide ones are not. */
  succeeded(account: string, address: string): void {
    this.failures.delete(pairKey(account, address));
    this.known.set(pairKey(account, address), true, KNOWN_ADDRESS_MS);
  }

  private count(key: string): void {
    const failures = (this.failures.get(key)?.failures ?? 0) + 1;
    this.failures.set(key, { failures, lastFailureAt: Date.now() }, FAILURE_MEMORY_MS);
  }
}

const pairKey = (account: string, address: string) => `${account}\u0000${address}`;
const accountKey = (account: string) => `${account}\u0000*`;
