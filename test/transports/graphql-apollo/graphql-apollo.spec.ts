import { describeBehaviourTable } from '../support/behaviour-table.js';
import { graphqlTransport } from '../support/graphql-app.js';
import { describeGraphQLCases } from '../support/graphql-cases.js';
import { describeSubscriptionKeys } from '../support/graphql-subscription-keys.js';
import { describeHandshakeKeys } from './handshake-keys.js';
import { describeSubscriptions } from './subscriptions.js';

// One spec file per driver: each file loads Nest, GraphQL and the driver once.
describeBehaviourTable(graphqlTransport('apollo'));
describeGraphQLCases('apollo');
describeSubscriptions();
describeSubscriptionKeys('API keys on graphql-ws subscriptions (apollo)', {
  driver: 'apollo',
  shapes: [
    (key) => ({ authorization: `Bearer ${key}` }),
    (key) => ({ Authorization: `bearer ${key}` }),
    (key) => ({ token: key }),
    (key) => ({ accessToken: key }),
  ],
});
describeHandshakeKeys();
