import { describeBehaviourTable } from '../support/behaviour-table.js';
import { graphqlTransport } from '../support/graphql-app.js';
import { describeGraphQLCases } from '../support/graphql-cases.js';
import { describeSubscriptionKeys } from '../support/graphql-subscription-keys.js';
import { describeSubscriptions } from './subscriptions.js';

// One spec file per driver: each file loads Nest, GraphQL and the driver once.
describeBehaviourTable(graphqlTransport('mercurius'));
describeGraphQLCases('mercurius');
describeSubscriptions();
// Mercurius copies connectionParams into the upgrade request's headers: `authorization` only.
describeSubscriptionKeys('API keys on graphql-transport-ws subscriptions (mercurius)', {
  driver: 'mercurius',
  shapes: [(key) => ({ authorization: `Bearer ${key}` })],
});
