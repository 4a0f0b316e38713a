import { shopProject } from './project.js';

/**
 * The reference shop's project config: the toolkit finds it like any user's, and uses it when no
 * other loadtest.config is found. Everything in it comes from the app's model (see project.ts).
 */
export default shopProject();
