-- Accounts of the 考点 role are bound to one exam site (as a school leader's account is to one school):
-- the site's scope is bound in the data layer as $scope_site from the stored account.
alter table users add column site_code varchar;
