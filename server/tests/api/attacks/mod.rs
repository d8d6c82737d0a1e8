mod authz;
mod authz_stages;
mod authz_uploads;
