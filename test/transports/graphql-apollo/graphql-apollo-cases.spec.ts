import { describeGraphQLCases } from '../support/graphql-cases.js';

describeGraphQLCases('apollo');
