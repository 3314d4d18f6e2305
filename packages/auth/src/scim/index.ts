export type { ScimActor, ScimAdmin, ScimOrigin } from './actor.js';
export {
  createScimToken,
  listScimTokens,
  MAX_SCIM_TOKENS,
  revokeScimToken,
  verifyScimToken,
} from './tokens.js';
export type { ScimTokenView } from './tokens.js';
export { getScimSettings, updateScimSettings } from './settings.js';
export type { ScimSettingsView } from './settings.js';
export {
  createScimUser,
  deleteScimUser,
  findScimUser,
  listScimUsers,
  replaceScimUser,
} from './users.js';
export type { ScimUserAttributes, ScimUserFilter, ScimUserRecord } from './users.js';
export {
  createScimGroup,
  deleteScimGroup,
  findScimGroup,
  listScimGroups,
  listScimGroupSummaries,
  MAX_GROUP_MEMBERS_PER_REQUEST,
  replaceScimGroup,
  setScimGroupRole,
} from './groups.js';
export type {
  ScimGroupAttributes,
  ScimGroupFilter,
  ScimGroupRecord,
  ScimGroupSummary,
} from './groups.js';
