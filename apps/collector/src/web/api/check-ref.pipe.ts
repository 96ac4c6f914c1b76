import { Injectable, type PipeTransform } from '@nestjs/common';
import { CurrentState } from '../../state/current-state.js';

/**
 * `@Param('id', CheckRefPipe)`: a check named in a path as a person would — its id, `agent/name`
 * (URL-encoded: `pacs-01%2FDICOM%20echo`) or a name only one check has — handed on as its id.
 */
@Injectable()
export class CheckRefPipe implements PipeTransform<string, string> {
  constructor(private readonly state: CurrentState) {}

  transform(ref: string): string {
    return this.state.findCheck(ref).check.id;
  }
}
