export {
  WorkOSEmulator,
  type EmulatorCalls,
  type EmulatorFault,
  type EmulatorFlag,
  type EmulatorMembership,
  type EmulatorOrganization,
  type EmulatorRoute,
  type EmulatorSession,
  type EmulatorUser,
  type OrgRule,
  type WorkOSEmulatorOptions,
} from './emulator.js';
