// The S3 client of the lake, configured by the AWS SDK's own environment variables (endpoint, region,
// credentials), so that the usual AWS setups and S3-compatible servers work unchanged. Path-style
// addressing: S3-compatible servers rarely serve bucket subdomains.
import { S3Client } from '@aws-sdk/client-s3';

export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: true,
  });
}
