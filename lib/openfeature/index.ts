export { AuthKitFlagProvider, type AuthKitFlagProviderOptions } from './authkit-flag.provider.js';
