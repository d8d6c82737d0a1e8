-- Issue 20: whoever asked for a promotion may withdraw it while it waits for
-- approval (recorded as rejected, "withdrawn by …"); deciding otherwise stays
-- with the project's release rights.
CREATE POLICY promotions_withdraw ON ops.promotions FOR UPDATE
    USING (requested_by = ops.current_user_id() AND state = 'requested')
    WITH CHECK (requested_by = ops.current_user_id() AND state = 'rejected');
