import { describeBehaviourTable } from '../support/behaviour-table.js';
import { wsTransport } from '../support/ws-app.js';

describeBehaviourTable(wsTransport('socket.io'));
