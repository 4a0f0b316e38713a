import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LocalTokens } from '../../app/index.js';

/**
 * Tokens for the deployed app: it verifies HS256 tokens signed with the stack's generated secret
 * (AUTH_SECRET), so the CLI signs the seeded users' tokens with that same secret.
 */
export async function deployedTokens(secrets: SecretsManagerClient, secretArn: string): Promise<LocalTokens> {
  const res = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const secret = res.SecretString;
  if (!secret) throw new Error(`secret ${secretArn} has no SecretString`);
  return new LocalTokens(secret);
}
