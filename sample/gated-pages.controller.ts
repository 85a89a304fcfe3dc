import { Controller, Get, Header } from '@nestjs/common';
import { CurrentSession, RequireFlag, type AuthKitSession } from 'nestjs-authkit';
import { esc, page } from './html.js';

/** One page per `@RequireFlag` mode, listed on the home page. */
export const GATED_PAGES = [
  { path: '/reports', flags: ['beta'], mode: 'all' },
  { path: '/labs', flags: ['alpha', 'beta'], mode: 'any' },
  { path: '/admin-tools', flags: ['alpha', 'beta'], mode: 'all' },
] as const;

@Controller()
export class GatedPagesController {
  @Get('reports')
  @RequireFlag('beta')
  @Header('Content-Type', 'text/html; charset=utf-8')
  reports(@CurrentSession() session: AuthKitSession): string {
    return gated('Beta reports', 'beta is on for your organization', session);
  }

  @Get('labs')
  @RequireFlag(['alpha', 'beta'], { mode: 'any' })
  @Header('Content-Type', 'text/html; charset=utf-8')
  labs(@CurrentSession() session: AuthKitSession): string {
    return gated('Labs', 'alpha or beta is on for you', session);
  }

  @Get('admin-tools')
  @RequireFlag(['alpha', 'beta'])
  @Header('Content-Type', 'text/html; charset=utf-8')
  adminTools(@CurrentSession() session: AuthKitSession): string {
    return gated('Admin tools', 'alpha and beta are both on for you', session);
  }
}

function gated(title: string, why: string, session: AuthKitSession): string {
  return page(
    title,
    `<h1 data-testid="gated-title">${esc(title)}</h1>
<p>You are in because ${esc(why)} (flags in your token: ${esc(session.featureFlags.join(', '))}).</p>
<p><a href="/">Back</a></p>`,
  );
}
