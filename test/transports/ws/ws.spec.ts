import { CapturingLogger } from '../../e2e/support/app.fixture.js';
import { describeBehaviourTable, ORG_B, startWorld } from '../support/behaviour-table.js';
import { UserFlagGuard } from '../support/user-flag.guard.js';
import { connect, startWsApp, tableGateway, wsTransport } from '../support/ws-app.js';
import { describeSocketKeys } from '../support/ws-keys.js';
import { describeConnectionLifetime, describeGlobalGuard } from '../support/ws-lifetime.js';

describeBehaviourTable(wsTransport('ws'));
describeConnectionLifetime('ws');
describeGlobalGuard('ws');

describe('ws: a gateway that never hands the upgrade request over', () => {
  it('its guards cannot see the cookie: refused NO_SESSION, and one warning names the fix', async () => {
    const world = await startWorld();
    const logger = new CapturingLogger();
    const server = await startWsApp('ws', world.emulator, {
      gateway: tableGateway('ws'),
      providers: [UserFlagGuard],
      upgradeRequests: false,
      logger,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const client = connect('ws', server.url, await world.cookie(ORG_B));
        expect(await client.ask('gated')).toMatchObject({ ok: false, reason: 'NO_SESSION' });
        await client.close();
      }
      const warnings = logger.lines.filter((line) => line.includes('withUpgradeRequests'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^warn .*authenticateConnection\(client, request\)/);
    } finally {
      await server.close();
      await world.emulator.close();
    }
  });
});
describeSocketKeys('ws');
