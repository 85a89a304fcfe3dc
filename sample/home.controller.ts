import { Controller, Get, Header, Inject, Optional } from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import {
  CurrentSession,
  FlagService,
  SessionService,
  WORKOS_CLIENT,
  type AuthKitSession,
  type FlagExplanation,
  type ReplacedSession,
} from 'nestjs-authkit';
import { DEMO, type Demo } from './demo.js';
import { GATED_PAGES } from './gated-pages.controller.js';
import { esc, page } from './html.js';

interface Membership {
  organizationId: string;
  organizationName: string;
}

/**
 * The client side of the live channel, as the README describes it: ask on connect, show
 * refusals (`exception`), and on `authkit:reauthenticate` refresh over HTTP, then reconnect.
 */
const LIVE_SCRIPT = `<script src="/socket.io/socket.io.js"></script>
<script>
  const log = document.querySelector('[data-testid="live-log"]');
  const show = (label, value) => { log.textContent = label + ' ' + JSON.stringify(value) + '\\n' + log.textContent; };
  const socket = io('/live');
  socket.on('connect', () => socket.emit('reports', {}, (answer) => show('reports', answer)));
  socket.on('exception', (error) => show('refused', error));
  socket.on('authkit:reauthenticate', async (event) => {
    show('reauthenticate', event);
    // Any request with the cookie refreshes the session (same organization), then reconnect.
    const res = await fetch('/api/me', { credentials: 'same-origin' });
    if (res.ok) socket.connect();
  });
</script>`;

@Controller()
export class HomeController {
  constructor(
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    private readonly flagService: FlagService,
    private readonly sessions: SessionService,
    @Optional() @Inject(DEMO) private readonly demo?: Demo,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async home(@CurrentSession() session: AuthKitSession | undefined): Promise<string> {
    if (!session) return page('Welcome', this.signedOut());
    const memberships = await this.memberships(session.userId);
    const explained = this.flagService.explain({
      userId: session.userId,
      organizationId: session.organizationId,
    });
    // The token this request arrived with, when the session was refreshed on the way in.
    const replaced = this.sessions.refreshedFrom();
    return page('Home', this.signedIn(session, memberships, explained, replaced));
  }

  private signedOut(): string {
    return `<h1>nestjs-authkit sample</h1>
<p>You are not signed in.</p>
<p><a href="/auth/login" data-testid="sign-in">Sign in</a> · <a href="/auth/signup">Create an account</a></p>
${this.demoBox()}`;
  }

  private signedIn(
    session: AuthKitSession,
    memberships: Membership[] | undefined,
    explained: FlagExplanation[],
    replaced: ReplacedSession | undefined,
  ): string {
    const user = session.user;
    const name = user?.firstName ?? user?.email ?? session.userId;
    const org = memberships?.find((m) => m.organizationId === session.organizationId);
    const flags = session.featureFlags.length
      ? session.featureFlags.map((f) => `<span class="flag">${esc(f)}</span>`).join('')
      : '<span class="muted">none</span>';
    const time = (seconds: number) => new Date(seconds * 1000).toISOString().slice(11, 19);
    const rows = GATED_PAGES.map((gate) => {
      const on = gate.flags.filter((f) => session.featureFlags.includes(f)).length;
      const allowed = gate.mode === 'any' ? on > 0 : on === gate.flags.length;
      return `<tr><td><a href="${esc(gate.path)}" data-testid="gate-${esc(gate.path.slice(1))}">${esc(gate.path)}</a></td>
<td>${esc(gate.flags.join(gate.mode === 'any' ? ' or ' : ' and '))}</td><td>${allowed ? 'yes' : 'no'}</td></tr>`;
    }).join('\n');
    const yesNo = (value: boolean | undefined) =>
      value === undefined ? '<span class="muted">?</span>' : value ? 'on' : 'off';
    const arrivedWith = replaced?.claims.feature_flags ?? session.featureFlags;
    const evaluation = explained
      .map((e) => {
        const arrived = arrivedWith.includes(e.slug);
        const note = e.drift
          ? '<b>drift</b>: your next request refreshes the token'
          : replaced && arrived !== e.claim
            ? `<b>refreshed</b>: ${arrived ? 'on → off' : 'off → on'}`
            : '';
        return (
          `<tr data-testid="explain-${esc(e.slug)}"><td><code>${esc(e.slug)}</code></td><td>${yesNo(arrived)}</td>` +
          `<td>${yesNo(e.claim)}</td><td>${yesNo(e.live)}</td><td>${esc(e.rule)}</td><td>${note}</td></tr>`
        );
      })
      .join('\n');
    const why = {
      expiry: 'its token had expired',
      flag_change: 'a flag change affected it',
      access_change: 'your membership, role or permissions changed',
      max_age: 'its token was older than tokens.maxClaimAge',
      explicit: 'you asked',
    };
    const refreshedLine = replaced
      ? `<p data-testid="refreshed">This request refreshed your session because ${why[replaced.cause]}
(token issued ${time(replaced.claims.iat)} → ${time(session.claims.iat)} UTC).</p>`
      : '';
    const options = (memberships ?? [])
      .map(
        (m) =>
          `<option value="${esc(m.organizationId)}"${m.organizationId === session.organizationId ? ' selected' : ''}>${esc(m.organizationName)}</option>`,
      )
      .join('');
    return `<h1>Hello, ${esc(name)}</h1>
<div class="box">
<p>Signed in as <b data-testid="user-email">${esc(user?.email ?? session.userId)}</b> <span class="muted">${esc(session.userId)}</span></p>
<p>Organization: <b data-testid="org-name">${esc(org?.organizationName ?? session.organizationId ?? 'none')}</b>
<code data-testid="org-id">${esc(session.organizationId ?? '')}</code>${session.role ? `, role ${esc(session.role)}` : ''}</p>
<p>Flags in your token: <span data-testid="token-flags">${flags}</span></p>
<p class="muted">Token issued ${time(session.claims.iat)}, expires ${time(session.claims.exp)} (UTC). Once it expires,
your next request refreshes it in the same organization, and the flags are evaluated again.</p>
</div>

<h2>Token vs live (<code>FlagService.explain</code>)</h2>
${refreshedLine}
<table><tr><th>Flag</th><th>Token you arrived with</th><th>Token now</th><th>Live</th><th>Decided by</th><th></th></tr>
${evaluation}
</table>
<p class="muted">A flag change reaches this page within one poll of the live configuration (or at
once, by webhook): the request after it arrives with the old token and is refreshed on the way
in, so the first two columns differ once. "drift": the live answer differs from the token now
(changed since it was issued, not yet seen by this instance).</p>

<h2>Pages gated by <code>@RequireFlag</code></h2>
<table><tr><th>Page</th><th>Needs</th><th>Your token says</th></tr>
${rows}
</table>

<h2>Who may do what</h2>
<p><a href="/members" data-testid="members-link">Members</a> needs the permission <code>members:manage</code>
in your current organization (Alice has it in Acme, not in Globex).
<code>GET /api/orgs/${esc(session.organizationId ?? ':orgId')}/reports</code> answers only for your token's own organization
(<code>@RequireOrganization({ param: 'orgId' })</code>).</p>
<p><a href="/security" data-testid="security-link">Security settings</a> (create an API key) needs a sign-in
within the last 5 minutes (<code>@RequireRecentAuth({ maxAge: 300 })</code>); past that, it asks you to sign in again.</p>

<h2>Organization</h2>
${
  memberships === undefined
    ? '<p class="muted">Could not list your organizations right now.</p>'
    : `<form method="post" action="/auth/switch-organization">
<input type="hidden" name="returnTo" value="/">
<select name="organizationId" data-testid="org-select">${options}</select>
<button type="submit" data-testid="switch-org">Switch organization</button>
</form>`
}

<h2>Session</h2>
<form method="post" action="/session/refresh"><button type="submit" data-testid="refresh">Refresh now</button></form>
<form method="post" action="/auth/logout"><button type="submit" data-testid="sign-out">Sign out</button></form>

<h2>JSON API with a Bearer token</h2>
<p>The same session checks work for <code>Authorization: Bearer &lt;access token&gt;</code>:
<code>GET /api/me</code>, <code>GET /api/reports</code> (needs <code>beta</code>).
${this.demo ? 'The server printed a ready-to-run <code>curl</code> line with a token at startup.' : ''}</p>

<h2>GraphQL</h2>
<p><code>POST /graphql</code> with <code>{ viewer { userId featureFlags betaReports { title } } }</code>:
<code>betaReports</code> and <code>reports</code> need <code>beta</code>; a refusal is an entry of
<code>errors[]</code> with <code>extensions.code</code> and <code>extensions.reason</code>.</p>

<h2>Live channel (socket.io)</h2>
<p>A socket on <code>/live</code>, authenticated with this page's cookie; its <code>reports</code>
message needs <code>beta</code>. When your token expires or a flag changes, the server says
<code>authkit:reauthenticate</code> and disconnects; this page refreshes over HTTP and reconnects.</p>
<pre data-testid="live-log"></pre>
${LIVE_SCRIPT}
${this.demoBox()}`;
  }

  private demoBox(): string {
    if (!this.demo) return '';
    return `<h2>Demo mode</h2>
<p class="box">No <code>WORKOS_API_KEY</code> is set, so this app talks to the project's WorkOS emulator
at <code>${esc(this.demo.emulator.url)}</code>. Change flags on its
<a href="${esc(this.demo.flagsUrl)}" data-testid="flags-admin-link">flags page</a>: e.g. widen <code>beta</code>
from "Some: Acme" to "All", then refresh your session here and compare organizations.</p>`;
  }

  private async memberships(userId: string): Promise<Membership[] | undefined> {
    try {
      const list = await this.workos.userManagement.listOrganizationMemberships({
        userId,
        statuses: ['active'],
      });
      return list.data.map((m) => ({
        organizationId: m.organizationId,
        organizationName: m.organizationName,
      }));
    } catch {
      return undefined;
    }
  }
}
