import { Injectable } from '@nestjs/common';

/** The time, injected so retention, cooldowns and baselines are tested without sleeping. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
