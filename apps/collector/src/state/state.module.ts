import { Global, Module } from '@nestjs/common';
import { CurrentState } from './current-state.js';
import { StateRepository } from './state.repository.js';
import { StoredStateFollower } from './stored-state-follower.js';

/**
 * The read model of current state. Global: the poller and the writer's commits feed it, the
 * inventory services refresh it, /metrics, pages and the API read it — and it depends on
 * none of them. Left out of the CLI's one-shot commands, which have nobody to show it to.
 */
@Global()
@Module({
  providers: [StateRepository, CurrentState, StoredStateFollower],
  exports: [CurrentState],
})
export class StateModule {}
