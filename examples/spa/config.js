// Where the API lives. `make spa` serves the API here; change it for your own deployment.
// The API must list this page's origin in CORS_ORIGINS.
export const API_BASE = "http://127.0.0.1:5000";
