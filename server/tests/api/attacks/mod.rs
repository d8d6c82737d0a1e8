mod authz;
mod authz_stages;
