import { UseGuards } from '@nestjs/common';
import { Field, Int, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import {
  AuthKitGuard,
  CurrentSession,
  FlagService,
  RequireFlag,
  type AuthKitSession,
} from 'nestjs-authkit';

@ObjectType()
class Report {
  @Field(() => Int) id!: number;
  @Field() title!: string;
}

@ObjectType()
class Viewer {
  @Field() userId!: string;
  @Field(() => String, { nullable: true }) organizationId!: string | null;
  @Field(() => [String]) featureFlags!: string[];
}

const REPORTS: Report[] = [{ id: 1, title: 'Q3 revenue' }];

/**
 * The same checks over GraphQL (`POST /graphql`): `viewer` needs a session, `reports` and the
 * `viewer.betaReports` field need `beta`. Refusals come back in `errors[]` with
 * `extensions.code` (UNAUTHENTICATED, FORBIDDEN) and `extensions.reason`.
 */
@Resolver(() => Viewer)
export class ReportsResolver {
  constructor(private readonly flags: FlagService) {}

  @Query(() => Viewer)
  @UseGuards(AuthKitGuard)
  viewer(@CurrentSession() session: AuthKitSession): Viewer {
    return {
      userId: session.userId,
      organizationId: session.organizationId ?? null,
      featureFlags: this.flags.getAll(),
    };
  }

  @Query(() => [Report])
  @RequireFlag('beta')
  reports(): Report[] {
    return REPORTS;
  }

  /** A guarded field: the session is still resolved once per query. */
  @ResolveField(() => [Report])
  @RequireFlag('beta')
  betaReports(): Report[] {
    return REPORTS;
  }
}
