import { describeBehaviourTable } from '../support/behaviour-table.js';
import { graphqlTransport } from '../support/graphql-app.js';
import { describeGraphQLCases } from '../support/graphql-cases.js';
import { describeSubscriptions } from './subscriptions.js';

// One spec file per driver: each file loads Nest, GraphQL and the driver once.
describeBehaviourTable(graphqlTransport('apollo'));
describeGraphQLCases('apollo');
describeSubscriptions();
