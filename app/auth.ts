import { jwtVerify, SignJWT } from 'jose';
import { Unauthorized } from './errors.js';

/**
 * Who is calling. The app only needs an email from a verified token; the verifier is pluggable so the
 * embedded stack signs its own tokens and AWS can verify Cognito's (e.g. with aws-jwt-verify).
 */
export interface Identity {
  readonly email: string;
}

export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

export const LOCAL_ISSUER = 'dynamo-loadtest/local';

/** HS256 tokens signed with a key that lives only in the embedded stack's process. */
export class LocalTokens implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(
    secret: string | Uint8Array,
    private readonly ttlSeconds = 24 * 3600,
  ) {
    this.key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    if (this.key.length < 32) throw new Error('LocalTokens: the signing key must be at least 32 bytes');
  }

  sign(email: string): Promise<string> {
    return new SignJWT({ email })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(LOCAL_ISSUER)
      .setSubject(email)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<Identity> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: LOCAL_ISSUER, algorithms: ['HS256'] });
      if (typeof payload.email !== 'string' || payload.email.length === 0) {
        throw new Unauthorized('token has no email claim');
      }
      return { email: payload.email };
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      throw new Unauthorized('invalid or expired token', {}, { cause: err });
    }
  }
}
