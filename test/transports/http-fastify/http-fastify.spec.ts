import { describeBehaviourTable } from '../support/behaviour-table.js';
import {
  describeKeepAliveIsolation,
  describeUserGlobalGuard,
  httpTransport,
} from '../support/http-app.js';

describeBehaviourTable(httpTransport('fastify'));
describeKeepAliveIsolation('fastify');
describeUserGlobalGuard('fastify');
