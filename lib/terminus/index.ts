export { AuthKitHealthIndicator } from './authkit-health.indicator.js';
export type {
  AuthKitHealthOptions,
  AuthKitHealthStatus,
  JwksHealth,
  LiveFlagsHealth,
  LiveFlagsHealthOptions,
  StoreHealth,
  StoreHealthOptions,
} from './authkit-health.types.js';
