// The embeddings families: user and video vectors from implicit ALS over the 30-day window (the model
// of the date, src/features/models/als-model.ts), and each video's most similar videos. video_embeddings
// depends on user_embeddings so that the date's model is trained once, by the first of the two.
import { DAY_SECONDS, type FamilyDecl } from '../types.js';

export const userEmbeddings: FamilyDecl = {
  name: 'user_embeddings',
  description: "A user's taste vector: implicit-feedback ALS on confidence-weighted user-video interactions over the 30d window.",
  owner: 'ml-platform',
  version: 1,
  entity: 'user',
  keys: [{ name: 'user_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  windowDays: 30,
  partials: { user_video_day: 30 },
  models: ['als'],
  dependsOn: [],
  features: [{ name: 'vector', type: 'FLOAT[]', description: 'ALS user factors (64 by default); score a video by the dot product with its vector' }],
  sql: () => `SELECT user_id, vector FROM als_users`,
};

export const videoEmbeddings: FamilyDecl = {
  name: 'video_embeddings',
  description: "A video's vector from the same ALS model, and its 20 most similar videos by cosine similarity.",
  owner: 'ml-platform',
  version: 1,
  entity: 'video',
  keys: [{ name: 'video_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  windowDays: 30,
  partials: { user_video_day: 30 },
  models: ['als'],
  dependsOn: ['user_embeddings'],
  features: [
    { name: 'vector', type: 'FLOAT[]', description: 'ALS video factors' },
    { name: 'similar_videos', type: 'VARCHAR[]', description: 'the 20 most similar videos, most similar first' },
    { name: 'similar_scores', type: 'FLOAT[]', description: 'their cosine similarities, alongside' },
  ],
  sql: () => `SELECT video_id, vector, similar_videos, similar_scores FROM als_videos`,
};
