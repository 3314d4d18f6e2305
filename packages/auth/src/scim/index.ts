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
  MAX_GROUP_MEMBERS_PER_REQUEST,
  replaceScimGroup,
} from './groups.js';
export { listScimGroupSummaries, setScimGroupRole } from './group-roles.js';
export type { ScimGroupSummary } from './group-roles.js';
export type { ScimGroupAttributes, ScimGroupFilter, ScimGroupRecord } from './groups.js';
