"""Video-protection: camera inventory, register of judicial requisitions, legal checks (images past their
retention, the consultation log), indicators and the coverage of hot spots by the cameras."""
