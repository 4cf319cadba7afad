-- Wallboards (issue 14): playlists are stored definitions too (kind 'playlist'), with the same
-- versions and audit as rules and dashboards.
alter table definitions drop constraint definitions_kind_check;
alter table definitions add constraint definitions_kind_check check (kind in ('rule', 'dashboard', 'playlist'));
alter table definition_versions drop constraint definition_versions_kind_check;
alter table definition_versions add constraint definition_versions_kind_check
  check (kind in ('rule', 'dashboard', 'playlist'));
