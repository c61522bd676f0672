import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../common/auth/roles.decorator.js';

/** The service's root opens the dashboard. */
@ApiExcludeController()
@Public()
@SkipThrottle()
@Controller()
export class UiController {
  @Get()
  @Redirect('/ui/', 302)
  root(): void {}
}
