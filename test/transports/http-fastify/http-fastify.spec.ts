import { describeBehaviourTable } from '../support/behaviour-table.js';
import { httpTransport } from '../support/http-app.js';

describeBehaviourTable(httpTransport('fastify'));
