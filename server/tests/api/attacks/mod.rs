mod authz;
mod authz_invitations;
mod authz_replay;
mod authz_stages;
mod authz_uploads;
