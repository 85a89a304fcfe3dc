import { Controller, HttpCode, Post, Redirect } from '@nestjs/common';
import { SessionService } from 'nestjs-authkit';

@Controller('session')
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  /** Refreshes now (same organization), so flag changes show up without waiting for expiry. */
  @Post('refresh')
  @HttpCode(303)
  @Redirect('/', 303)
  async refresh(): Promise<void> {
    await this.sessions.refresh();
  }
}
