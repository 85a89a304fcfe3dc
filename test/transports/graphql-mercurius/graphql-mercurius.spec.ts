import { describeBehaviourTable } from '../support/behaviour-table.js';
import { graphqlTransport } from '../support/graphql-app.js';

describeBehaviourTable(graphqlTransport('mercurius'));
