import { Injectable } from '@nestjs/common';

/**
 * The capabilities this instance actually has enabled, as listed by `GET /meta`. Each module
 * enables its own feature when it starts (e.g. `delivery_history`, `event_stream`).
 */
@Injectable()
export class FeatureRegistry {
  private readonly features = new Set<string>();

  enable(feature: string): void {
    this.features.add(feature);
  }

  list(): string[] {
    return [...this.features].sort();
  }
}
