// QuotaModule is left out on purpose: it imports MediaModule, whose upload service imports this barrel, so
// exporting it here would be a require cycle. The app module imports quota.module directly.
export { quotaExceeded } from './quota-errors';
export * from './quota-ledger';
export * from './quota-reservation';
export * from './quota.service';
