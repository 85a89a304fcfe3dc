import { describeBehaviourTable } from '../support/behaviour-table.js';
import { wsTransport } from '../support/ws-app.js';
import { describeSocketKeys } from '../support/ws-keys.js';
import { describeConnectionLifetime, describeGlobalGuard } from '../support/ws-lifetime.js';

describeBehaviourTable(wsTransport('socket.io'));
describeConnectionLifetime('socket.io');
describeGlobalGuard('socket.io');
describeSocketKeys('socket.io');
