import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { parseDto } from '../shared/dto.js';

/**
 * The one place a request is parsed: `@Body(new ZodPipe(createCheckDto, 'invalid check'))`,
 * `@Query(new ZodPipe(recentResultsQuery, 'invalid query'))`. The handler gets the schema's typed
 * output; a failure is a ValidationFailedError, which ApiErrorFilter answers with a 400 listing
 * the field errors. A body sent without a JSON content type reaches the schema as `undefined`.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    // Public for the OpenAPI spec, which checks the document shows this very schema.
    readonly schema: S,
    private readonly message: string,
  ) {}

  transform(value: unknown): z.output<S> {
    return parseDto(this.schema, value, this.message);
  }
}
