import { Global, Module } from '@nestjs/common';
import { AuthController } from './auth.controller.js';
import { IdentityResolver } from './identity-resolver.js';

/** Identity resolution for every module; the guards themselves are APP_GUARDs in AppModule. */
@Global()
@Module({
  controllers: [AuthController],
  providers: [IdentityResolver],
  exports: [IdentityResolver],
})
export class AuthModule {}
