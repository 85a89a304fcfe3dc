import {
  targetedBothWays,
  toRulesFlag,
  toRuntimeFlag,
  type EmulatorFlag,
  type OrgRule,
} from './flag-model.js';
import { html, json, redirect } from './http.js';
import { errorPage } from './pages.js';
import type { EmulatorRequest, Route } from './route-table.js';

type FlagPatch = Partial<Omit<EmulatorFlag, 'slug'>>;

/** What the flag routes need: the flag model, and the targets a form may name. */
export interface FeatureFlagsContext {
  flags(): EmulatorFlag[];
  flag(slug: string): EmulatorFlag | undefined;
  /** Changes a flag as `WorkOSEmulator.setFlag()` does (listeners and events included). */
  setFlag(slug: string, patch: FlagPatch): EmulatorFlag;
  hasOrganization(id: string): boolean;
  hasUser(id: string): boolean;
}

const FLAG_PATH = /^\/_emulator\/flags\/(?<slug>[^/]+)$/;

/**
 * `GET /sdk/feature-flags` (the SDK's runtime client, with the API key; any method, as it
 * always answered), and the flag writes: the flags page's form post and the JSON
 * `PUT /_emulator/flags/:slug` for scripts.
 *
 * @example
 * bindRoutes(featureFlagsRoutes, context);
 */
export const featureFlagsRoutes: readonly Route<FeatureFlagsContext, 'sdk-flags'>[] = [
  {
    method: '*',
    path: '/sdk/feature-flags',
    apiKey: true,
    fault: 'sdk-flags',
    handler: ({ res, url }, { flags }) => {
      // @workos-inc/node 12+ asks for version 2 (ordered rules); earlier SDKs get version 1.
      if (url.searchParams.get('payload_version') === '2') {
        return json(res, 200, {
          version: 2,
          flags: Object.fromEntries(flags().map((flag) => [flag.slug, toRulesFlag(flag)])),
        });
      }
      return json(
        res,
        200,
        Object.fromEntries(flags().map((flag) => [flag.slug, toRuntimeFlag(flag)])),
      );
    },
  },
  { method: 'POST', path: FLAG_PATH, handler: postFlagForm },
  {
    method: 'PUT',
    path: FLAG_PATH,
    handler: ({ res, body, params }, { flag, setFlag }) => {
      const slug = params.slug!;
      const patch = flagPatch(body);
      if (!patch) return json(res, 400, { message: 'Invalid flag' });
      const current = flag(slug);
      if (targetedBothWays({ slug, enabled: false, orgRule: 'none', ...current, ...patch })) {
        return json(res, 400, { message: 'A target cannot be both on and off' });
      }
      return json(res, 200, setFlag(slug, patch));
    },
  },
];

/** The flags page's Save: the form lists every target, so what it posts replaces them. */
function postFlagForm(
  { res, form, params }: EmulatorRequest,
  { setFlag, hasOrganization, hasUser }: FeatureFlagsContext,
): void {
  const slug = params.slug!;
  const rule = form.get('rule') ?? '';
  if (!isOrgRule(rule)) {
    return html(res, 400, errorPage(`unknown rule "${rule}"`, 'Cannot save the flag'));
  }
  const organizations = form.getAll('org');
  const organizationsOff = form.getAll('org_off');
  const unknown = [...organizations, ...organizationsOff].find((id) => !hasOrganization(id));
  if (unknown !== undefined) {
    return html(res, 400, errorPage(`unknown organization ${unknown}`, 'Cannot save the flag'));
  }
  const users = form.getAll('user');
  const usersOff = form.getAll('user_off');
  const unknownUser = [...users, ...usersOff].find((id) => !hasUser(id));
  if (unknownUser !== undefined) {
    return html(res, 400, errorPage(`unknown user ${unknownUser}`, 'Cannot save the flag'));
  }
  // Empty lists read as unset.
  const listed = (ids: string[]) => (ids.length > 0 ? ids : undefined);
  const patch = {
    enabled: form.get('enabled') === 'on',
    orgRule: rule,
    organizations,
    organizationsOff: listed(organizationsOff),
    users: listed(users),
    usersOff: listed(usersOff),
  };
  const both = targetedBothWays({ slug, ...patch });
  if (both !== undefined) {
    return html(res, 400, errorPage(`${both} is targeted both on and off`, 'Cannot save the flag'));
  }
  setFlag(slug, patch);
  redirect(res, 303, '/_emulator/flags');
}

function isOrgRule(value: string): value is OrgRule {
  return value === 'none' || value === 'some' || value === 'all';
}

/** A JSON flag patch (`PUT /_emulator/flags/:slug`), or undefined when a field has a wrong type. */
function flagPatch(body: Record<string, unknown>): FlagPatch | undefined {
  const patch: FlagPatch = {};
  const strings = (value: unknown) =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  if (body.enabled !== undefined) {
    if (typeof body.enabled !== 'boolean') return undefined;
    patch.enabled = body.enabled;
  }
  if (body.orgRule !== undefined) {
    if (typeof body.orgRule !== 'string' || !isOrgRule(body.orgRule)) return undefined;
    patch.orgRule = body.orgRule;
  }
  for (const key of ['organizations', 'organizationsOff', 'users', 'usersOff'] as const) {
    if (body[key] === undefined) continue;
    const list = strings(body[key]);
    if (!list) return undefined;
    patch[key] = list;
  }
  if (body.description !== undefined) {
    if (typeof body.description !== 'string') return undefined;
    patch.description = body.description;
  }
  return patch;
}
