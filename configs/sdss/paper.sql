-- gcnn query --preset paper: the galaxy sample of Wu & Boada (2019), written
-- for this project. Spectroscopic galaxies (SpecObj, science-primary spectra)
-- joined to their photometry (Galaxy, on bestObjID) and to the MPA-JHU
-- spectroscopic catalogue (GalSpecLine, GalSpecInfo, GalSpecIndx,
-- GalSpecExtra, on specObjID).
--
-- Column names follow the SkyServer schema: SpecObj z, zErr, velDisp, rChi2
-- (reduced chi^2 of the best fit); Galaxy modelMag_<band>, modelMagErr_<band>,
-- petroMag_r, petroR50_r, petroR90_r (arcsec); GalSpecLine <line>_flux and
-- <line>_flux_err (1e-17 erg/s/cm^2); GalSpecIndx d4000 (Bruzual 1983 break);
-- GalSpecExtra bptclass, oh_p* (12 + log O/H percentiles, -9999 when not
-- measured), lgm_tot_p50 (log stellar mass), sfr_tot_p50 (log SFR).
--
-- ra and dec are the photometric centre (Galaxy), the right centre for image
-- cutouts. No ORDER BY: gcnn query pages through the result by objID.
SELECT
  g.objID, s.specObjID, g.ra, g.dec,
  s.z, s.zErr, s.velDisp,
  g.modelMag_u, g.modelMag_g, g.modelMag_r, g.modelMag_i, g.modelMag_z,
  g.modelMagErr_u, g.modelMagErr_g, g.modelMagErr_r, g.modelMagErr_i, g.modelMagErr_z,
  g.petroMag_r, g.petroR50_r, g.petroR90_r,
  l.h_alpha_flux, l.h_alpha_flux_err,
  l.h_beta_flux, l.h_beta_flux_err,
  l.nii_6584_flux, l.nii_6584_flux_err,
  l.oiii_5007_flux, l.oiii_5007_flux_err,
  l.h_delta_flux, l.h_delta_flux_err,
  x.d4000, x.d4000_err,
  e.bptclass,
  e.oh_p2p5, e.oh_p16, e.oh_p50, e.oh_p84, e.oh_p97p5,
  e.lgm_tot_p50, e.sfr_tot_p50
FROM SpecObj AS s
  JOIN Galaxy AS g ON g.objID = s.bestObjID
  JOIN GalSpecLine AS l ON l.specObjID = s.specObjID
  JOIN GalSpecInfo AS i ON i.specObjID = s.specObjID
  JOIN GalSpecIndx AS x ON x.specObjID = s.specObjID
  JOIN GalSpecExtra AS e ON e.specObjID = s.specObjID
WHERE g.petroMag_r > 10 AND g.petroMag_r < 18
  AND g.modelMag_u - g.modelMag_r > 0 AND g.modelMag_u - g.modelMag_r < 6
  AND g.modelMag_u BETWEEN 10 AND 25
  AND g.modelMag_g BETWEEN 10 AND 25
  AND g.modelMag_r BETWEEN 10 AND 25
  AND g.modelMag_i BETWEEN 10 AND 25
  AND g.modelMag_z BETWEEN 10 AND 25
  AND s.rChi2 < 2
  AND s.zErr > 0 AND s.zErr < 0.01
  AND s.z > 0.02
  AND e.oh_p50 <> -9999
